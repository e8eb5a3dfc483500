"""Live events: case transitions and position changes published with NOTIFY and streamed as SSE."""
