"""How records become the text a model reads: prompt templates and chat templates.

A record becomes a list of `Piece`s: text (or one special token) and whether the loss learns it.

Prompt templates apply to a record's `prompt` (SFT pairs and GRPO prompts alike, so a cold-start SFT
and the RL after it see the same prompt): `none` leaves it as it is; `r1` is DeepSeek-R1-Zero's
template (R1 paper, Table 1), which asks for <think>...</think> then <answer>...</answer>; a file
holding `{prompt}` is a template of your own.

Chat templates apply to `messages` records. A Jinja template (the checkpoint's tokenizer_config.json
`chat_template`, its chat_template.jinja, or `--chat-template FILE`) is rendered as transformers'
`apply_chat_template` renders it (variables `messages`, `bos_token`, `eos_token`,
`add_generation_prompt`); an assistant turn's text is what rendering the chat up to and including
that turn adds after rendering it up to the turn with `add_generation_prompt=True`. The rendered text
carries its own document start (`bos_token`) and its special tokens are recognised as such. Without
a Jinja template, DeepSeek LLM's chat format:

    [system]\\n\\nUser: {user}\\n\\nAssistant: {assistant}<EOS>User: ...

where the completion the model writes, and learns, is " {assistant}" and EOS.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from deepcorpus.core import storage
from deepcorpus.core.errors import UserError

R1_ZERO = (
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. "
    "The assistant first thinks about the reasoning process in the mind and then provides the user with the "
    "answer. The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, "
    "respectively, i.e., <think> reasoning process here </think> <answer> answer here </answer>. "
    "User: {prompt}. Assistant:"
)
PROMPT_TEMPLATES = {"none": "{prompt}", "r1": R1_ZERO}


@dataclass(frozen=True)
class Piece:
    text: str | None = None  # text to encode, or
    token: int | None = None  # one token id (EOS)
    trained: bool = False  # the loss learns these tokens
    special: bool = False  # rendered by a Jinja template: special-token text in it is the special token


def load_prompt_template(spec: str) -> str:
    """The template text for `none`, `r1` or a file; it must hold `{prompt}`."""
    if spec in PROMPT_TEMPLATES:
        return PROMPT_TEMPLATES[spec]
    if not storage.exists(spec):
        raise UserError(f"--prompt-template {spec}: not none, r1 or a file")
    text = storage.read_bytes(spec).decode("utf-8")
    if "{prompt}" not in text:
        raise UserError(f"{spec}: a prompt template must hold {{prompt}} where the prompt goes")
    return text


def apply_prompt_template(template: str, prompt: str) -> str:
    return template.replace("{prompt}", prompt)  # not str.format: prompts and templates hold braces (LaTeX)


class DeepSeekChat:
    """DeepSeek LLM's chat format (its tokenizer_config.json), for tokenizers that carry no template."""

    name = "deepseek-llm"
    renders_start = False  # the run's document-start ids go first

    def __init__(self, eos_id: int):
        self.eos_id = eos_id

    def pieces(self, messages: list[dict]) -> list[Piece]:
        out = []
        for m in messages:
            if m["role"] == "system":
                out.append(Piece(m["content"] + "\n\n"))
            elif m["role"] == "user":
                out.append(Piece("User: " + m["content"] + "\n\n"))
            else:
                out += [Piece("Assistant:"), Piece(" " + m["content"], trained=True), Piece(token=self.eos_id, trained=True)]
        return out

    def generation_prompt(self, messages: list[dict]) -> list[Piece]:
        return [Piece(p.text, p.token) for p in self.pieces(messages)] + [Piece("Assistant:")]


class JinjaChat:
    """A Hugging Face chat template (Jinja), rendered in a sandbox as transformers renders it."""

    renders_start = True

    def __init__(self, template: str, bos_token: str, eos_token: str, name: str):
        from jinja2.exceptions import TemplateSyntaxError
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)

        def raise_exception(message):
            raise UserError(f"chat template {name}: {message}")

        env.globals["raise_exception"] = raise_exception
        try:
            self.template = env.from_string(template)
        except TemplateSyntaxError as e:
            raise UserError(f"{name}: not a valid Jinja chat template ({e.message})") from None
        self.bos_token, self.eos_token, self.name = bos_token, eos_token, name

    def render(self, messages: list[dict], add_generation_prompt: bool) -> str:
        return self.template.render(messages=messages, bos_token=self.bos_token, eos_token=self.eos_token,
                                    add_generation_prompt=add_generation_prompt)

    def pieces(self, messages: list[dict]) -> list[Piece]:
        out, done = [], ""
        for i, m in enumerate(messages):
            if m["role"] != "assistant":
                continue
            prompt = self.render(messages[:i], add_generation_prompt=True)
            full = self.render(messages[:i + 1], add_generation_prompt=False)
            if not prompt.startswith(done) or not full.startswith(prompt):
                raise UserError(f"chat template {self.name}: rendering a longer chat does not extend the shorter "
                                "one's text, so the assistant turns cannot be told apart")
            out += [Piece(prompt[len(done):], special=True), Piece(full[len(prompt):], trained=True, special=True)]
            done = full
        rest = self.render(messages, add_generation_prompt=False)
        if rest.startswith(done) and len(rest) > len(done):
            out.append(Piece(rest[len(done):], special=True))
        return [p for p in out if p.text]

    def generation_prompt(self, messages: list[dict]) -> list[Piece]:
        return [Piece(self.render(messages, add_generation_prompt=True), special=True)]


def tokenizer_chat_template(tokenizer_path: str) -> tuple[str, str] | None:
    """(template, where) carried beside a tokenizer.json: chat_template.jinja, or tokenizer_config.json's
    `chat_template` (a string, or a list of named templates, of which `default`)."""
    folder = os.path.dirname(tokenizer_path)
    jinja = os.path.join(folder, "chat_template.jinja")
    if storage.exists(jinja):
        return storage.read_bytes(jinja).decode("utf-8"), jinja
    config = os.path.join(folder, "tokenizer_config.json")
    if not storage.exists(config):
        return None
    try:
        template = json.loads(storage.read_bytes(config)).get("chat_template")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        raise UserError(f"{config}: malformed JSON") from None
    if isinstance(template, list):
        named = {t.get("name"): t.get("template") for t in template if isinstance(t, dict)}
        template = named.get("default")
    return (template, config) if isinstance(template, str) and template else None


def load_chat_template(spec: str | None, tokenizer_path: str, tokenizer, ids):
    """The chat template to use: --chat-template FILE, the tokenizer's own, else DeepSeek LLM's."""
    from pipelines.tokenize.tokenizer import BOS, EOS

    found = None
    if spec:
        if not storage.exists(spec):
            raise UserError(f"--chat-template {spec}: no such file")
        found = storage.read_bytes(spec).decode("utf-8"), spec
    else:
        found = tokenizer_chat_template(tokenizer_path)
    if found is None:
        return DeepSeekChat(ids.eos)
    return JinjaChat(found[0], BOS, EOS, found[1])


def encode_pieces(tokenizer, pieces: list[Piece]) -> tuple[list[int], list[int]]:
    """(token ids, 1 where the loss learns the token else 0) of a record's pieces, each piece encoded
    on its own (as prompt and completion are at generation time)."""
    ids, labels = [], []
    for p in pieces:
        if p.token is not None:
            new = [p.token]
        else:
            new = encode_text(tokenizer, p.text, p.special)
        ids += new
        labels += [int(p.trained)] * len(new)
    return ids, labels


def encode_text(tokenizer, text: str, special: bool = False) -> list[int]:
    if not special:
        return tokenizer.encode(text, add_special_tokens=False).ids
    before = tokenizer.encode_special_tokens
    tokenizer.encode_special_tokens = False  # the template's own special-token text means those tokens
    try:
        return tokenizer.encode(text, add_special_tokens=False).ids
    finally:
        tokenizer.encode_special_tokens = before
