"""The Textual user interface: widgets, screens and the stores behind them."""
