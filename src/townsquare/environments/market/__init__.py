"""A stock market on the social platform (TwinMarket, StockAgent)."""
