"""ReviewOps analysis engine: Trustpilot reviews -> sentiment, topics, insights.

Keep this module light: the operator image imports `reviewops.spec` without the NLP stack.
"""

__version__ = "0.1.0"
