"""The coverage check of a dataset (``avatar4d check``): the analysis of its camera x time grid
(``analysis.py``), the report's types, the findings' sentences, the summary lines and the figure."""
