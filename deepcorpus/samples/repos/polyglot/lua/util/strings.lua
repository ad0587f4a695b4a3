-- String helpers missing from the standard library.
local M = {}

function M.split(text, sep)
  local parts = {}
  for piece in string.gmatch(text, "([^" .. sep .. "]+)") do
    table.insert(parts, piece)
  end
  return parts
end

return M
