require_relative "../lib/greeter"

greeter = Greeter.new(polite: ARGV.delete("--rude").nil?)
ARGV.each { |name| puts greeter.greet(name) }
