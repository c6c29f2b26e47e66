-- A page read with the session cookie from the environment (a returning reader).
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
dofile(os.getenv("BENCH_REPORT"))
