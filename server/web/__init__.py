"""HTTP routes and WebSocket endpoints: parse, authenticate, call one action, serialize."""
