import Sprout
print("helper")
