"""The demo page and the bodygraph SVG."""
