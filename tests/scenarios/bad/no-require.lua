-- Scenarios cannot load modules.
scenario { name = "no-require", duration = "1min" }
local socket = require("socket")
