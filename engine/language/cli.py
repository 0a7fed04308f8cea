"""Command line for language models (engine/cli.py hands these over):

    python -m engine train --lm [--text shakespeare|names|FILE.txt] [--kind transformer|mlp|bigram] ...
    python -m engine evaluate LM.npz [--text ...]     loss in nats per character and perplexity
    python -m engine sample LM.npz [--chars 500] [--temperature 0.8] [--top-k 10] [--prompt TEXT]

Errors are one line on stderr and exit code 2, as for digits (engine/cli.py's main catches them).
"""
import argparse
import math
import sys
import time
from pathlib import Path

from i18n import _

from .generate import generate
from .models import KINDS
from ..modelfile import LM_FORMAT_VERSION, ModelFileError, read_archive
from .modelfile import MAX_LM_MEMBERS, load_language_model, save_language_model, settings_of
from .text import CORPORA, MAX_TEXT_BYTES, Vocabulary, load_corpus, read_text_file
from .trainer import LMSettings, evaluate, new_lm_run

def read_text(what, usage_error):
    """A corpus that ships with the app (by name) or a UTF-8 text file, checked as the pages check an
    upload (text.read_text_file: size, binary, UTF-8, one sentence each): (text, its short name)."""
    if what in CORPORA:
        return load_corpus(what), what
    path = Path(what)
    try:
        if path.stat().st_size > MAX_TEXT_BYTES:          # before reading it
            raise usage_error(_("{what} is {mb} MB; at most {most} MB of text is read").format(
                what=what, mb=f"{path.stat().st_size / 2**20:,.1f}", most=f"{MAX_TEXT_BYTES / 2**20:g}"))
        data = path.read_bytes()
    except FileNotFoundError:
        raise usage_error(_("{what} is neither a text that ships with the app ({names}) nor a file").format(
            what=what, names=", ".join(CORPORA))) from None
    except OSError as err:
        raise usage_error(_("{what} cannot be read: {reason}").format(what=what, reason=err.strerror or err)) from None
    return read_text_file(data, path.name), path.name


def train_parser(parser_class):
    """The parser of `python -m engine train --lm ...` (its own: the digits' train flags mean other things)."""
    d = LMSettings()
    t = parser_class(prog="python -m engine train --lm",
                       description=_("Train a character-level language model (engine/language) and save it with "
                                     "its vocabulary. Defaults: nanoGPT's CPU 'baby GPT' (4 blocks, 4 heads, width "
                                     "128, context 64, batch 12, AdamW 1e-3 with cosine decay to 1e-4, 2000 steps)."),
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    t.add_argument("train", choices=["train"], help=argparse.SUPPRESS)
    t.add_argument("--lm", action="store_true", help=_("(this command)"))
    t.add_argument("--text", default="shakespeare", help=_("{names}, or a UTF-8 .txt file").format(
        names=" | ".join(CORPORA)))
    t.add_argument("--kind", choices=KINDS, default=d.kind)
    t.add_argument("--context", type=int, default=d.context,
                   help=_("transformer: characters read at once; MLP: characters looked back (k)"))
    t.add_argument("--width", type=int, default=d.width, help=_("transformer width C"))
    t.add_argument("--blocks", type=int, default=d.blocks, help=_("transformer blocks, 1 to 4"))
    t.add_argument("--heads", type=int, default=d.heads, help=_("attention heads, 1 to 4"))
    t.add_argument("--embed", type=int, default=d.embed, help=_("MLP: numbers per character"))
    t.add_argument("--hidden", type=int, default=d.hidden, help=_("MLP: hidden units"))
    t.add_argument("--window", type=int, default=None, help=_("training sequence length (default: the context, "
                                                                 "32 for MLP and bigram)"))
    t.add_argument("--optimizer", choices=("adamw", "adam", "momentum", "sgd"), default=d.optimizer)
    t.add_argument("--lr", type=float, default=d.lr)
    t.add_argument("--min-lr", type=float, default=d.min_lr)
    t.add_argument("--warmup", type=int, default=d.warmup)
    t.add_argument("--weight-decay", type=float, default=d.weight_decay)
    t.add_argument("--batch-size", type=int, default=d.batch_size)
    t.add_argument("--steps", type=int, default=d.steps)
    t.add_argument("--eval-every", type=int, default=d.eval_every)
    t.add_argument("--seconds", type=float, default=None, help=_("stop after this much training time"))
    t.add_argument("--seed", type=int, default=d.seed)
    t.add_argument("--val-fraction", type=float, default=d.val_fraction)
    t.add_argument("--sample-chars", type=int, default=200, help=_("characters sampled at each evaluation"))
    t.add_argument("--out", default="lm.npz")
    return t


def add_sample_parser(sub):
    """`python -m engine sample LM.npz ...`, a subcommand of engine/cli.py's parser."""
    s = sub.add_parser("sample", help=_("write text with a language model"),
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    s.add_argument("model")
    s.add_argument("--chars", type=int, default=500)
    s.add_argument("--temperature", type=float, default=1.0, help=_("0 = always the most likely character"))
    s.add_argument("--top-k", type=int, default=0, help=_("draw only among the k most likely (0 = all)"))
    s.add_argument("--prompt", default="\n", help=_("text to start from (characters the model knows)"))
    s.add_argument("--seed", type=int, default=None)
    s.add_argument("--no-cache", action="store_true",
                   help=_("generate without the key/value cache (slower, same text)"))


def cmd_train_lm(args, usage_error):
    text, name = read_text(args.text, usage_error)
    s = LMSettings(kind=args.kind, context=args.context, width=args.width, blocks=args.blocks, heads=args.heads,
                   embed=args.embed, hidden=args.hidden, window=args.window, optimizer=args.optimizer, lr=args.lr,
                   min_lr=min(args.min_lr, args.lr), warmup=args.warmup, weight_decay=args.weight_decay,
                   batch_size=args.batch_size, steps=args.steps, seed=args.seed, val_fraction=args.val_fraction,
                   eval_every=args.eval_every, sample_chars=args.sample_chars)
    vocab = Vocabulary.of(text)
    ids = vocab.encode(text)
    run = new_lm_run(ids, s, vocab.size, vocab)
    print(_("training {model} ({n} weights) on {name}: {train} characters, {val} held out; {V} distinct "
            "characters").format(model=run.model.describe(), n=f"{run.model.n_params():,}", name=name,
                                 train=f"{len(run.train_ids):,}", val=f"{len(run.val_ids):,}", V=vocab.size),
          flush=True)
    shown = 0
    while not (run.finished or run.diverged):
        if args.seconds is not None and run.train_seconds >= args.seconds:
            break
        run.run(seconds=0.5)
        for rec in run.history.epochs[shown:]:
            print(_("step {step:>6}  train loss {train}  val loss {val} nats/char  ({seconds} s)").format(
                step=rec['step'], train=f"{rec['train_loss']:.4f}", val=f"{rec['val_loss']:.4f}",
                seconds=f"{rec['seconds']:.1f}"), flush=True)
        for step, sample in run.history.samples[shown:]:
            print("  " + _("sample: {text}").format(text=sample.replace("\n", "\n          ")), flush=True)
        shown = len(run.history.epochs)
    if run.diverged:
        print(run.message)
        print(_("the model was not saved"))
        return 1
    loss, _acc = run.evaluate(max_tokens=0)
    print(_("validation loss {loss} nats per character (perplexity {perplexity}) after {steps} steps, {seconds} s").format(
        loss=f"{loss:.4f}", perplexity=f"{math.exp(loss):.2f}", steps=run.step, seconds=f"{run.train_seconds:.1f}"))
    save_language_model(args.out, run.model, vocab,
                        settings_of(s, val_loss=round(loss, 4), corpus=name, step=run.step,
                                    train_seconds=round(run.train_seconds, 2)))
    print(_("saved {path}").format(path=args.out))
    return 0


def cmd_evaluate_lm(args, usage_error):
    model, vocab, settings, _notes = load_language_model(args.model)
    corpus = settings.get("corpus", "shakespeare")
    if args.text is None and corpus not in CORPORA:
        raise usage_error(_("the model was trained on {corpus}, which does not ship with the app: "
                            "name a text to evaluate it on with --text").format(corpus=corpus))
    text, name = read_text(args.text or corpus, usage_error)
    missing = vocab.unknown_chars(text)
    if missing:
        raise usage_error(_("{name} has {n} characters the model has never seen ({chars!r}); evaluate it on text "
                            "made of its {V} characters").format(name=name, n=len(missing),
                                                                 chars="".join(missing)[:20], V=vocab.size))
    ids = vocab.encode(text)
    if args.text is None:           # the text it was trained on: only the part it never trained on
        cut = len(ids) - int(round(len(ids) * settings.get("val_fraction", 0.1)))
        ids, which = ids[cut:], _("text: held-out part of {name}, {n} characters, read in windows of {window}")
    else:
        which = _("text: {name}, {n} characters, read in windows of {window}")
    window = min(model.context, settings.get("window") or (model.context if model.kind == "transformer" else 32))
    loss, acc = evaluate(model, ids, window)
    print(_("model: {model} ({n} weights)").format(model=model.describe(), n=f"{model.n_params():,}"))
    print(which.format(name=name, n=f"{len(ids):,}", window=window))
    print(_("loss: {loss} nats per character ({bits} bits)").format(loss=f"{loss:.4f}", bits=f"{loss / math.log(2):.3f}"))
    print(_("perplexity: {perplexity}").format(perplexity=f"{math.exp(loss):.2f}"))
    print(_("next character right: {share}").format(share=f"{acc:.1%}"))
    return 0


def cmd_sample(args, usage_error):
    model, vocab, _settings, _notes = load_language_model(args.model)
    if not 1 <= args.chars <= 100_000:
        raise usage_error(_("--chars must be from 1 to {most}").format(most="100,000"))
    missing = vocab.unknown_chars(args.prompt)
    if missing or not args.prompt:
        raise usage_error(_("the prompt must be made of characters the model knows; it has never seen {chars!r}").format(
            chars="".join(missing)[:20]) if missing else _("the prompt is empty"))
    start = time.perf_counter()
    ids = generate(model, vocab.encode(args.prompt), args.chars, args.temperature, args.top_k or None,
                   seed=args.seed, cache=not args.no_cache)
    seconds = time.perf_counter() - start
    sys.stdout.write(args.prompt + vocab.decode(ids) + "\n")
    print((_("({n} characters in {seconds} s, without the key/value cache)") if args.no_cache else
           _("({n} characters in {seconds} s, with the key/value cache)")).format(
        n=args.chars, seconds=f"{seconds:.2f}"), file=sys.stderr)
    return 0


def is_language_model(path):
    """True if the file at path says it is a language-model file (format version 3); False for anything
    else, a broken file too (the digits' load_model then says what is wrong with it)."""
    try:
        files, _name = read_archive(path, max_members=MAX_LM_MEMBERS)
    except ModelFileError:
        return False
    v = files.get("format_version")
    return v is not None and v.shape == () and v.dtype.kind in "iu" and int(v) == LM_FORMAT_VERSION
