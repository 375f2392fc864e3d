#!/usr/bin/env python3
"""Sprout's job queue against Celery + Redis and a psycopg 3 queue on the same PostgreSQL,
each with two worker processes, measured in one run: tiny jobs per second end to end
(JOBS submitted, every result awaited) and one job's round trip (median of 50).

    python3 bench/compare/queue_compare.py [--jobs 10000] [--repeat 3] [--markdown]
        [--only sprout,psycopg,celery] [--modes durable,relaxed] [--sprout-binary PATH]

Starts its own PostgreSQL (scripts/lib/postgres.sh) and Redis (--bind 127.0.0.1 --save ''),
installs Celery and psycopg into bench/compare/.venv-queue, builds sprout-distributed in
release. Ratios are Sprout over the peer (higher is better for jobs/s, the peer's time over
Sprout's for the round trip), min/median/max over the paired runs.

For a quick look at one part (an A/B of a change, say): --only runs only the systems named,
--modes only the settings named (Celery belongs to both), --sprout-binary measures a
sprout-distributed built elsewhere (the build here is skipped). Without them the run is the
full one, in the same order. A system run without its counterpart is printed alone, min/median/max.

Sprout and the psycopg peer run twice, with the same setting on both sides of a row:
"durable" (every submission and every recorded outcome waits for PostgreSQL's flush to disk,
its default) and "relaxed" (nothing waits for the disk: `synchronous_commit = off` for the
submissions and the workers' statements — Sprout's `JobQueue.connect(url, durableSubmissions:
false)` and JobQueueWorkerOptions.durableAnswers = false, the peer's producer and worker
connections likewise; a server crash may then lose the last moments' submissions and
outcomes, see docs/JobQueue.md). Neither side's claims wait for the disk in either. Celery's
Redis runs without persistence (--save ''), so it appears against both.
"""
import argparse, os, signal, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VENV = os.path.join(HERE, ".venv-queue")
PEERS = os.path.join(HERE, "peers")
REDIS_PORT = 6390


def venv_python():
    python = os.path.join(VENV, "bin", "python")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    if subprocess.run([python, "-c", "import celery, packaging, psycopg, redis"], capture_output=True).returncode != 0:
        subprocess.run([python, "-m", "pip", "install", "-q", "celery[redis]==5.7.0", "packaging", "psycopg[binary]==3.2.3"], check=True)
    return python


def shell(script):
    return subprocess.run(["bash", "-c", f"source scripts/lib/postgres.sh && {script}"], cwd=ROOT,
                          check=True, capture_output=True, text=True).stdout.strip()


def measure(bench, workers, env=None, cwd=None):
    """Starts the worker processes, runs the bench command, stops the workers; returns its figures."""
    started = [subprocess.Popen(w, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for w in workers]
    try:
        time.sleep(1.5)  # workers ready (Celery's take the longest)
        out = subprocess.run(bench, cwd=cwd, env=env, check=True, capture_output=True, text=True, timeout=600).stdout
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    figures = dict(line.split() for line in out.splitlines() if line.startswith(("jobs_per_s", "roundtrip_ms_median")))
    return float(figures["jobs_per_s"]), float(figures["roundtrip_ms_median"])


def exit_on_signal(number, frame):
    """SIGTERM or SIGHUP (a kill, a closed terminal) end the run through `finally`, as Ctrl-C does,
    so Redis and the workers are stopped; Python's default would end it on the spot."""
    sys.exit(128 + number)


def main():
    signal.signal(signal.SIGTERM, exit_on_signal)
    signal.signal(signal.SIGHUP, exit_on_signal)
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--only", default="sprout,psycopg,celery", help="systems to run, comma-separated")
    parser.add_argument("--modes", default="durable,relaxed", help="settings to run, comma-separated")
    parser.add_argument("--sprout-binary", help="a sprout-distributed to measure instead of building one here")
    args = parser.parse_args()
    systems, modes = set(args.only.split(",")), set(args.modes.split(","))
    if not systems <= {"sprout", "psycopg", "celery"} or not modes <= {"durable", "relaxed"} or not systems or not modes:
        parser.error("--only takes sprout, psycopg, celery; --modes takes durable, relaxed")
    settings = [(mode, answers) for mode, answers in [("", "durable"), ("-relaxed", "relaxed")] if answers in modes]
    subprocess.run([os.path.join(ROOT, "scripts", "install-deps.sh")], check=True)
    if "celery" in systems and subprocess.run(["which", "redis-server"], capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "redis-server"], check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    python = venv_python()
    binary = args.sprout_binary
    if binary is None and "sprout" in systems:
        subprocess.run(["swift", "build", "-c", "release", "--package-path", "Examples", "--product", "sprout-distributed"],
                       cwd=ROOT, check=True, capture_output=True)
        binary = os.path.join(subprocess.run(["swift", "build", "-c", "release", "--package-path", "Examples", "--show-bin-path"],
                                             cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip(), "sprout-distributed")
    # The server's watchdog watches this process: however it ends (kill -9 included), the server goes.
    directory, url = shell(f'postgres_start {os.getpid()} && echo "$POSTGRES_DIR $POSTGRES_URL"').split()
    redis = subprocess.Popen(["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", ""],
                             stdout=subprocess.DEVNULL) if "celery" in systems else None
    env = {**os.environ, "QUEUE_REDIS": f"redis://127.0.0.1:{REDIS_PORT}/0", "PYTHONPATH": PEERS}
    runs = {"sprout": [], "sprout-relaxed": [], "psycopg": [], "psycopg-relaxed": [], "celery": []}
    try:
        subprocess.run([python, os.path.join(PEERS, "queue_psycopg.py"), "setup", url], check=True)
        for _ in range(args.repeat):
            for mode, _answers in settings:
                relaxed = mode == "-relaxed"
                if "sprout" in systems:
                    runs["sprout" + mode].append(measure([binary, "bench", url, str(args.jobs)] + (["--async-submissions"] if relaxed else []),
                                                         [[binary, "worker", url, "2", "30"] + (["--async-answers"] if relaxed else [])]))
                theirs = ["async"] if relaxed else []
                if "psycopg" in systems:
                    runs["psycopg" + mode].append(measure([python, os.path.join(PEERS, "queue_psycopg.py"), "bench", url, str(args.jobs)] + theirs,
                                                          [[python, os.path.join(PEERS, "queue_psycopg.py"), "worker", url] + theirs] * 2))
            if "celery" in systems:
                runs["celery"].append(measure([python, os.path.join(PEERS, "queue_celery.py"), "bench", str(args.jobs)],
                                              [[python, "-m", "celery", "-A", "queue_celery", "worker", "-c", "2", "--pool", "prefork",
                                                "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "warning"]],
                                              env=env, cwd=PEERS))
            print("run:", {name: figures[-1] for name, figures in runs.items() if figures}, file=sys.stderr)
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait()
        shell(f"POSTGRES_DIR={directory} postgres_stop")

    rows, alone = [], []
    for mode, answers in settings:
        peers = [("celery", "Celery 5.7 + Redis 7 (no persistence)"), ("psycopg" + mode, f"psycopg 3 queue, claims of 50, {answers}")]
        for peer, label in peers:
            for index, name, unit in [(0, "queue-tiny-jobs", "jobs/s"), (1, "queue-roundtrip", "ms")]:
                ours = [run[index] for run in runs["sprout" + mode]]
                theirs = [run[index] for run in runs[peer]]
                if ours and theirs:
                    ratios = [(a / b) if index == 0 else (b / a) for a, b in zip(ours, theirs)]
                    rows.append((name, answers, unit, statistics.median(ours), label, statistics.median(theirs),
                                 min(ratios), statistics.median(ratios), max(ratios)))
                elif theirs and (peer != "celery" or mode == settings[0][0]):
                    alone.append((name, answers, unit, label, min(theirs), statistics.median(theirs), max(theirs)))
        if runs["sprout" + mode] and not any(runs[peer] for peer, _ in peers):
            for index, name, unit in [(0, "queue-tiny-jobs", "jobs/s"), (1, "queue-roundtrip", "ms")]:
                ours = [run[index] for run in runs["sprout" + mode]]
                alone.append((name, answers, unit, "Sprout", min(ours), statistics.median(ours), max(ours)))
    if args.markdown:
        print("| workload | disk waits | unit | Sprout (median) | peer | peer (median) | ratio min | ratio median | ratio max |")
        print("|---|---|---|---|---|---|---|---|---|")
        for row in rows:
            print("| %s | %s | %s | %.4g | %s | %.4g | %.2fx | %.2fx | %.2fx |" % row)
        print(f"(ratio = how many times better Sprout is; {args.repeat} paired runs, {args.jobs} jobs, two worker processes each, release build)")
    else:
        for row in rows:
            print("%-16s %-8s %-7s sprout %10.4g  %-48s %10.4g  ratio %.2fx / %.2fx / %.2fx" % row)
    # Systems run without a counterpart (--only): their own figures, min/median/max.
    for row in alone:
        print("%-16s %-8s %-7s %s alone: min %.4g  median %.4g  max %.4g" % row)


if __name__ == "__main__":
    main()
