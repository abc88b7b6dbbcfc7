"""The 食安码 resolver: the pages a shopper sees after scanning a code, with the verified badge."""
