-- The os library is not available to scenarios.
scenario { name = "no-os", duration = "1min" }
os.execute("rm -rf /")
