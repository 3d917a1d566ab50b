package podplug

# No rule defines allow, so every decision is undefined.
deny contains {"code": "example", "message": "never"} if false
