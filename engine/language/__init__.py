"""From digits to words: a character-level language model from scratch, in NumPy.

    text.py       the texts that ship with the app, the user's own text, characters <-> numbers
                  (the vocabulary), training/validation split
    bpe.py        byte-pair encoding: how GPT-style models cut text into tokens, merge by merge
    bigram.py     the bigram count table: probabilities, loss in nats per character, sampling
    layers.py     embedding, position embedding, LayerNorm, causal self-attention, feed-forward, block,
                  softmax + cross-entropy at every position (forward and backward side by side)
    models.py     the ladder: Bigram, MLP on the last k characters, Transformer (build_model(spec))
    trainer.py    LMSettings, LMTrainer (the digits' Trainer interface: the worker and steering use it)
    generate.py   sampling (temperature, top-k) and generation with a key/value cache
    inspect.py    attention maps of one sentence, the embedding map: arrays for the pages
    modelfile.py  model files version 3 (weights + vocabulary), checked like the digits' files
    cli.py        python -m engine train --lm | evaluate LM.npz | sample LM.npz
"""
