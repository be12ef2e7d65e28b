-- A loop that never ends.
scenario { name = "endless-loop", duration = "1min" }
local n = 0
while n >= 0 do
  n = n + 1
end
