-- A string that doubles until memory runs out.
scenario { name = "memory-bomb", duration = "1min" }
local s = "x"
while true do
  s = s .. s
end
