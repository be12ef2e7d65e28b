-- Scenarios cannot compile code at run time (load could take bytecode).
scenario { name = "no-load", duration = "1min" }
local f = load("return 1")
