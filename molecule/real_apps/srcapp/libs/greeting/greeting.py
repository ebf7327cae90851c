def greet(name):
    return f"Hello from {name}"
