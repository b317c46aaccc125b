"""Topic models of the analysis engine: `lda`, `nmf` (scikit-learn) and `gensim-lda`.

`fit_topics(tokens, options)` turns preprocessed token lists into labelled topics, top terms
and one topic per review, with NPMI coherence and topic diversity; numTopics "auto" picks k.
scikit-learn and gensim are imported only when their algorithm runs.
"""

from reviewops.topics.base import ALGORITHMS, TopicModel, TopicModelFactory
from reviewops.topics.fit import fit_topics

__all__ = ["ALGORITHMS", "TopicModel", "TopicModelFactory", "fit_topics"]
