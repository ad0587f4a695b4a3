local strings = require("util.strings")

for _, word in ipairs(strings.split("alpha,beta,gamma", ",")) do
  print(word)
end
