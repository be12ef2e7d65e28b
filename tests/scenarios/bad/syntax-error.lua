-- A syntax error: a missing closing brace.
scenario { name = "syntax-error", duration = "1min"
host { name = "esx01", cpu = { cores = 4, ghz = 2.6 }, memory = "64GB" }
