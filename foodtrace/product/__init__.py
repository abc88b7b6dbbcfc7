"""Products (GTIN) and the lots produced of them."""
