"""The deal scout: reads deal sources, matches items to people's watches, scores them."""
