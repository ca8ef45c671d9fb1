"""Facts about the systems shipspec renders for (Kubernetes naming, Triton releases,
SLO windows, the output layout). Checks and backends both read them; they import
nothing above the IR."""
