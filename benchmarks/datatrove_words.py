"""datatrove's MinHash stages split words with its English tokenizer, which needs spaCy (not
installed here). Both benchmarks that run them give it whitespace splitting instead: cheaper than
spaCy, so datatrove's numbers are, if anything, better than in its default set-up."""


def use_whitespace_words() -> None:
    import datatrove.pipeline.dedup.minhash as dm
    from datatrove.utils.word_tokenizers import WordTokenizer

    class SplitTokenizer(WordTokenizer):
        def word_tokenize(self, text):
            return text.split()

        def sent_tokenize(self, text):
            return [text]

        def span_tokenize(self, text):
            return [(0, len(text))]

    dm.load_word_tokenizer = lambda language: SplitTokenizer()
