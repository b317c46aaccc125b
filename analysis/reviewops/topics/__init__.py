"""Topic models of the analysis engine: `lda`, `nmf` (scikit-learn) and `gensim-lda`.

`fit_topics(tokens, options)` turns preprocessed token lists into two levels of labelled
themes (broad themes, one of them general praise, each with sub-themes; see topics.themes),
top terms and one theme and sub-theme per review, with NPMI coherence and topic diversity;
numTopics "auto" picks k, bounded by the number of reviews. Given the cleaned texts, labels
are phrases the reviews write (topics.phrases). scikit-learn and gensim are imported only when
their algorithm runs.
"""

from reviewops.topics.base import ALGORITHMS, TopicModel, TopicModelFactory
from reviewops.topics.fit import fit_topics

__all__ = ["ALGORITHMS", "TopicModel", "TopicModelFactory", "fit_topics"]
