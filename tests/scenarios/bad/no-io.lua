-- The io library is not available to scenarios.
scenario { name = "no-io", duration = "1min" }
local f = io.open("/etc/passwd")
