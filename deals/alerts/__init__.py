"""Alerts: rules on a product's prices, judged on every trusted new price (deal quality, quiet hours)."""
