"""Reading spec sources: files found (``sources``), text parsed by the lark grammar
(``syntax``), and the canonical printer that writes them back (``printer``)."""
