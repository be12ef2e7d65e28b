-- string.dump (which makes bytecode) is removed from the string library.
scenario { name = "no-string-dump", duration = "1min" }
local code = string.dump(function() end)
