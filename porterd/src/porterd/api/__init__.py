"""porterd's Engine API: the falcon app (`app.py`) and one router module per resource."""
