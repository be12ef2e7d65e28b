-- A global assigned by accident (a missing `local`).
scenario { name = "undeclared-global", duration = "1min" }
count = 4
