# Greets people by name, politely or not.
class Greeter
  def initialize(polite: true)
    @polite = polite
  end

  def greet(name)
    @polite ? "Good morning, #{name}." : "hey #{name}"
  end
end
