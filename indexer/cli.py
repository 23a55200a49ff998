"""The ``zhsearch`` command: parses arguments and calls the library."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from indexer.adding import plan_add
from indexer.errors import IndexCorrupt, NoCorpus, NotInCorpus, QueryError, ZhsearchError
from indexer.search import SearchService
from indexer.settings import SETTINGS
from indexer import integrity
from indexer.archive import EXPORT_FORMATS, REPORT_SORTS, Archive, export_bytes
from indexer.corpus import write_atomically
from indexer.highlight import Snippet
from indexer.records import ArticleView, ReportList, SearchResult, SyncReport
from indexer.store import Store



def text_arg(arg: str) -> str:
    """A command-line word as text: bytes that were not UTF-8 (a GBK terminal)
    reach Python as lone surrogates, which no later step can encode; they are
    read as GB18030 instead.

    >>> text_arg("劳模"), text_arg("\\udcc0\\udccd\\udcc4\\udca3")
    ('劳模', '劳模')
    """
    try:
        arg.encode("utf-8")
        return arg
    except UnicodeEncodeError:
        return arg.encode("utf-8", "surrogateescape").decode("gb18030", "replace")


class BadUsage(click.ClickException):
    """A mistake in the command line itself: one line, exit status 2 (as click's usage errors)."""

    exit_code = 2


class StrictCommand(click.Command):
    """A command whose usage errors are one line with exit status 2, and
    whose ``--corpus``/``--index`` may also follow the command name."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise BadUsage(f"{error.format_message()} See `zhsearch {ctx.info_name} --help`."
                           ) from None


class QueryCommand(StrictCommand):
    """``search``: options may stand before or after the query words, and a
    word that starts with ``-`` and a Chinese character (``-表彰``) is a
    query word (an exclusion), while an unknown option (``--limt``) is an
    error."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        options, words = _split_query_words(self, ctx, args)
        return super().parse_args(ctx, [*options, "--", *words])


def _split_query_words(command: click.Command, ctx: click.Context,
                       args: list[str]) -> tuple[list[str], list[str]]:
    takes_value = {}
    for param in command.get_params(ctx):
        if isinstance(param, click.Option):
            for opt in (*param.opts, *param.secondary_opts):
                takes_value[opt] = not param.is_flag and not param.count
    options: list[str] = []
    words: list[str] = []
    rest = iter(args)
    for arg in rest:
        if arg == "--":
            words.extend(rest)
            break
        name = arg.split("=", 1)[0]
        if name in takes_value:
            options.append(arg)
            if takes_value[name] and "=" not in arg:
                options.append(next(rest, ""))
        elif len(arg) > 2 and arg[:2] in takes_value and not arg.startswith("--") \
                and takes_value[arg[:2]]:
            options.append(arg)  # -n5
        elif re.match(r"--[A-Za-z]", arg):
            options.append(arg)  # an unknown long option: click names it
        else:  # -表彰 and -ibm exclude a word
            words.append(arg)
    return options, words


def _corpus_options(func):
    """``--corpus`` and ``--index`` after the command name, as before it."""
    for name in ("index", "corpus"):
        setting = SETTINGS[name]
        func = click.option(f"--{name}", f"{name}_dir", default=None, expose_value=True,
                            type=click.Path(file_okay=False, path_type=Path),
                            help=f"{setting.help} Same as before the command.")(func)
    return func


class Context:
    def __init__(self, corpus: Path, index: Path):
        self.corpus = corpus
        self.index = index

    def store(self, one_command: bool = True) -> Store:
        """The store of ``--corpus`` and ``--index``; ``one_command`` for a command
        that answers once and exits (every one but ``serve``)."""
        return Store(self.corpus, self.index,
                     on_wait=lambda message: click.echo(message, err=True),
                     one_command=one_command)


def _fail_nicely(func):
    """Turn the library's errors into one-line messages with a hint, in one
    place; also applies ``--corpus``/``--index`` given after the command name."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, corpus_dir: Path | None = None, index_dir: Path | None = None, **kwargs):
        obj = click.get_current_context().find_object(Context)
        if obj is not None:
            obj.corpus = corpus_dir or obj.corpus
            obj.index = index_dir or obj.index
        try:
            return func(*args, **kwargs)
        except ZhsearchError as error:
            # A request that cannot run as given is a usage error (status 2),
            # and so is a --corpus that names no folder.
            kind = BadUsage if isinstance(error, (QueryError, NoCorpus)) else click.ClickException
            raise kind(str(error) + (f". Hint: {error.hint}." if error.hint else "")) from None
        except Exception as error:  # noqa: BLE001
            from indexer.store import from_whoosh

            if not from_whoosh(error) or obj is None:
                raise
            # Whoosh failed reading a damaged segment file.
            damaged = IndexCorrupt(f"the index in {obj.index} is damaged: "
                                   f"{type(error).__name__}: {error}")
            raise click.ClickException(f"{damaged}. Hint: {damaged.hint}.") from None
    return _corpus_options(wrapper)


# Per file: the files read, the bytes, the rate and the time left to read
# them, as "Indexing  31%|███▏      | 112/365 files, 2.80M/8.90MB, 556kB/s,
# 00:11 left to read".
_BAR_FORMAT = ("{desc} {percentage:3.0f}%|{bar}| {files}, {n_fmt}/{total_fmt}B, "
               "{rate_noinv_fmt}, {remaining} left to read")
# Once every file is read the commit writes what the bulk writer still holds,
# which no callback reports: 14 of `index`'s 17 s on the 2022 subset, 24 of
# `add`'s 29 s, 160 of 182 s at the whole folder (1,693 files, 43 MB, on a
# loaded machine). Said, with a clock, and no time left the bar cannot know.
_WRITING_FORMAT = "{desc}: {files}; writing the index... {elapsed}"


def _progress_bar(total_bytes: int, files: int, verb: str = "Indexing"):
    """A tqdm bar on stderr over ``total_bytes``; its postfix is the files done.

    Drawn only on a terminal (``disable=None``); plain characters when
    ``TERM=dumb``. It has no colour, so ``NO_COLOR`` has nothing to remove.
    """
    from tqdm import tqdm

    class FilesBar(tqdm):
        @property
        def format_dict(self) -> dict:
            fields = super().format_dict
            fields["files"] = fields.pop("postfix", None) or f"0/{files} files"
            return fields

    return FilesBar(total=total_bytes, unit="B", unit_scale=True, file=sys.stderr,
                    desc=verb, bar_format=_BAR_FORMAT, disable=None, leave=False,
                    ascii=True if os.environ.get("TERM") == "dumb" else None)


def per_file_lines(verbose: bool) -> bool:
    """Whether to print a line per file: with ``--verbose``, and whenever
    standard output or standard error is not a terminal (scripts, CI logs and
    pipes keep the lines they always had). On a terminal the bar and a
    summary take their place; refused files are still named one a line."""
    return verbose or not (_is_terminal(sys.stdout) and _is_terminal(sys.stderr))


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


@contextmanager
def _progress(quiet: bool = False, verb: str = "Indexing") -> Iterator[dict]:
    """The progress and on_plan callbacks of a library call that reads files:
    a bar on stderr over the bytes, with the files done beside it; once the
    last file is read, a line that says the index is being written, its
    clock redrawn every second (tqdm draws only on an update)."""
    import threading

    bar = None
    files = done = 0
    stop = threading.Event()
    ticking: list[threading.Thread] = []

    def tick() -> None:
        while not stop.wait(1.0) and bar is not None:
            bar.refresh()

    def on_plan(count: int, total: int) -> None:
        nonlocal bar, files, done
        if not quiet:
            if bar is not None:  # a rebuild that starts again after a damaged segment
                bar.close()
            files, done = count, 0
            bar = _progress_bar(total, count, verb)

    def progress(name: str, size: int) -> None:
        nonlocal done
        if bar is not None:
            done += 1
            bar.set_postfix_str(f"{done}/{files} files", refresh=False)
            bar.update(size)
            if done == files and not bar.disable:
                bar.set_postfix_str(f"{done}/{files} files read in "
                                    f"{bar.format_interval(bar.format_dict['elapsed'])}",
                                    refresh=False)
                bar.bar_format = _WRITING_FORMAT
                bar.refresh()
                ticking.append(threading.Thread(target=tick, daemon=True))
                ticking[0].start()

    try:
        yield {"progress": progress, "on_plan": on_plan}
    finally:
        stop.set()
        for thread in ticking:
            thread.join()
        if bar is not None:
            bar.close()


def _echo_outcomes(report: SyncReport, each: bool = True, err: bool = False) -> None:
    """A line per file (stdout, refused ones on stderr; all on stderr with
    ``err``); with ``each`` False only the refused ones, then one line of
    counts."""
    for outcome in report.outcomes:
        if outcome.status == "refused":
            click.echo(f"refused {outcome.name}: {outcome.reason}", err=True)
        elif not each:
            continue
        elif outcome.passages:
            click.echo(f"{outcome.status} {outcome.name} ({outcome.passages} passages)", err=err)
        else:
            click.echo(f"{outcome.status} {outcome.name}", err=err)
    if not each and report.outcomes:
        click.echo(outcome_counts(report))


def outcome_counts(report: SyncReport) -> str:
    """One line for what happened to the files of ``report``.

    >>> from indexer.records import FileOutcome
    >>> outcome_counts(SyncReport([FileOutcome("a", "added", 3), FileOutcome("b", "added", 2),
    ...                            FileOutcome("c", "refused")]))
    '3 files: 2 added, 1 refused; 5 passages written.'
    """
    statuses = ("added", "updated", "unchanged", "removed", "refused")
    counts = [f"{report.count(s):,} {s}" for s in statuses if report.count(s)]
    files = len(report.outcomes)
    written = sum(o.passages for o in report.outcomes if o.status in ("added", "updated"))
    return (f"{files:,} file{'s' if files != 1 else ''}: {', '.join(counts)}"
            + (f"; {written:,} passage{'s' if written != 1 else ''} written." if written else "."))


class StrictGroup(click.Group):
    command_class = StrictCommand

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise BadUsage(f"{error.format_message()} See `zhsearch --help`.") from None

    def resolve_command(self, ctx: click.Context, args: list[str]):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as error:
            raise BadUsage(f"{error.format_message()} See `zhsearch --help`.") from None


def _verbose_option(func):
    return click.option("--verbose", is_flag=True,
                        help="A line per file even on a terminal, where a progress bar and a "
                             "summary stand in for them.")(func)


def _setting_option(name: str, dest: str | None = None):
    setting = SETTINGS[name]
    return click.option(
        f"--{name}", *([dest] if dest else []),
        type=click.Path(file_okay=False, path_type=Path), default=setting.default,
        show_default=True, envvar=setting.env, help=f"{setting.help} (env {setting.env})")


@click.group(cls=StrictGroup, context_settings={"help_option_names": ["-h", "--help"]})
@_setting_option("corpus")
@_setting_option("index", "index_dir")
@click.version_option(package_name="zhsearch")
@click.pass_context
def cli(ctx: click.Context, corpus: Path, index_dir: Path) -> None:
    """Full-text search for Chinese report and news files."""
    ctx.obj = Context(corpus, index_dir)


@cli.command("index")
@click.option("--rebuild", is_flag=True, help="Throw the index away and build it anew.")
@click.option("--allow-removals", is_flag=True,
              help="Remove the reports gone from the corpus folder even when that is "
                   "every indexed report or more than half of them (refused without it, "
                   "as an emptied, unmounted or mistyped folder would do that).")
@_verbose_option
@click.pass_obj
@_fail_nicely
def index_command(obj: Context, rebuild: bool, allow_removals: bool, verbose: bool) -> None:
    """Bring the index in line with the corpus folder (new, changed, deleted files).

    A missing corpus folder is an error, and a sync that would remove more
    than half of the indexed reports is refused unless --allow-removals.

    On a terminal, a progress bar on stderr shows the files read, the MB/s
    and the time left to read them, then that the index is being written;
    refused files are still named, each on a line, and a
    line of counts ends. With --verbose, or when the output is not a
    terminal (a pipe, a file, a CI log), a line per file instead.
    """
    each = per_file_lines(verbose)
    store = obj.store()
    with _progress() as callbacks:
        if rebuild:
            report, aside = store.rebuild(**callbacks, allow_removals=allow_removals)
            if aside:
                click.echo(f"The damaged index was moved to {aside}.", err=True)
        else:
            report = store.sync(**callbacks, allow_removals=allow_removals)
    _echo_outcomes(report, each)
    problems = integrity.check(store)
    if problems:
        for problem in problems:
            click.echo(f"repairing {problem.source}: {problem.description}", err=True)
        _echo_outcomes(integrity.repair(store, problems), each)
    stats = integrity.stats(store)
    click.echo(f"{stats['files']} files, {stats['passages']} passages indexed.")
    if report.refused:
        raise SystemExit(1)


@cli.command(cls=QueryCommand)
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", "-n", type=click.IntRange(min=0), default=10, show_default=True,
              help="Passages per page; 0 shows every hit.")
@click.option("--page", "-p", type=click.IntRange(min=1), default=1, show_default=True,
              help="Which page of results.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option("--source", help="Only passages from this corpus file.")
@click.option("--from", "date_from", metavar="YYYY-MM-DD", help="Only reports dated on or after.")
@click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Only reports dated on or before.")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance",
              show_default=True, help="Order of the results.")
@click.option("--group", type=click.Choice(["article"]), default=None,
              help="One hit per article (its best passage); the total counts articles, "
                   "and -word leaves out every article that holds the word anywhere.")
@click.option("--fold", type=click.Choice(["same"]), default=None,
              help="The same story once: a passage that other reports carry too (a wire "
                   "copy, differing only in spacing or punctuation) is one hit, its copies "
                   "listed under it; the total counts stories.")
@click.option("--in", "scope", type=click.Choice(["all", "title"]), default="all",
              show_default=True, help="Match everywhere, or article titles only.")
@click.option("--verbose", is_flag=True,
              help="When the index is brought up to date first, a line per file on stderr.")
@click.pass_obj
@_fail_nicely
def search(obj: Context, query: tuple[str, ...], limit: int, page: int, as_json: bool,
           source: str | None, date_from: str | None, date_to: str | None, sort: str,
           group: str | None, fold: str | None, scope: str, verbose: bool) -> None:
    """Search the corpus: words must all occur, "quotes" for exact text,
    -word to exclude, OR for either.

    The index is built or brought up to date first when the corpus changed,
    with a progress bar on stderr when that is a terminal (none with --json);
    --verbose names every file it read, on stderr.
    """
    store = obj.store()
    with _progress(quiet=as_json) as callbacks:
        update = store.ensure_current(**callbacks)
    if verbose and update is not None:
        _echo_outcomes(update, err=True)
    service = SearchService(store, long_lived=False)
    result = service.search(text_arg(" ".join(query)), page=page, limit=limit,
                            source=text_arg(source) if source else source,
                            date_from=date_from, date_to=date_to, sort=sort, group=group,
                            scope=scope, fold=fold)
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False))
        return
    _echo_results(result)


def _terminal_text(snippet: Snippet) -> str:
    """The snippet with its matched characters in bold red (plain when not a terminal)."""
    return "".join(click.style(text, fg="red", bold=True) if marked else text
                   for text, marked in snippet.pieces())


def _echo_results(result: SearchResult) -> None:
    if result.query_truncated:
        from indexer.query import MAX_QUERY_CHARS, MAX_TERMS

        click.echo(f"Note: the query is longer than {MAX_QUERY_CHARS:,} characters or "
                   f"{MAX_TERMS} terms; only its beginning was searched.", err=True)
    if not result.total:
        click.echo(f"No passages match {result.query}.")
        if result.suggestion:
            click.echo(f"Did you mean: {result.suggestion}")
        return
    hits, first = result.hits, result.first
    shown = f"{first}-{first + len(hits) - 1} of " if hits else "none of "
    counted = "articles" if result.grouped else "stories" if result.folded else "passages"
    click.echo(f"{shown}{result.total} {counted} match {result.query} ({result.took_ms} ms)")
    for number, hit in enumerate(hits, start=first):
        heading = hit.title + (f" · {hit.section}" if hit.section else "")
        click.echo("")
        click.echo(click.style(f"[{number}] {heading}", bold=True))
        where = [hit.source, f"¶{hit.paragraph}"] + ([hit.date] if hit.date else [])
        if hit.more:
            where.append(f"{hit.more} more in this article")
        if hit.same:
            where.append(f"+{hit.same} same story in other report{'s' if hit.same > 1 else ''}")
        click.echo("    " + " · ".join(where))
        click.echo("    " + _terminal_text(hit.snippet))


@cli.command(cls=QueryCommand)
@click.argument("passage_id")
@click.argument("query", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.pass_obj
@_fail_nicely
def explain(obj: Context, passage_id: str, query: tuple[str, ...], as_json: bool) -> None:
    """Why a passage matched a query: how both were cut into words, and which
    rule matched each term (PASSAGE_ID is a hit's "id" in `search --json`)."""
    store = obj.store()
    with _progress(quiet=as_json) as callbacks:
        store.ensure_current(**callbacks)
    explanation = SearchService(store, long_lived=False).explain(text_arg(" ".join(query)), passage_id)
    if explanation is None:
        raise click.ClickException(f"no passage with the id {passage_id}. "
                                   "Hint: the ids are in `zhsearch search QUERY --json`.")
    if as_json:
        click.echo(json.dumps(explanation.to_json(), ensure_ascii=False))
        return
    click.echo("query words:   " + " | ".join(explanation.query_words))
    for term in explanation.terms:
        via = f" ({term.via})" if term.via else ""
        held = f": {' | '.join(term.matched)}" if term.matched else ""
        click.echo(f"{term.term}: {term.rule}{via}{held}")
    click.echo("passage words: " + " | ".join(explanation.passage_words))


def _archive(obj: Context, quiet: bool = False) -> Archive:
    """The archive over an index brought up to date first, as ``search`` does."""
    store = obj.store()
    with _progress(quiet=quiet) as callbacks:
        store.ensure_current(**callbacks)
    return Archive(SearchService(store, long_lived=False))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option("--sort", type=click.Choice(REPORT_SORTS), default="date", show_default=True,
              help="date: newest first; name: by pinyin; passages: most first.")
@click.pass_obj
@_fail_nicely
def reports(obj: Context, as_json: bool, sort: str) -> None:
    """List every report: its date, articles, passages, size and the units its
    article titles name; then how many reports each year has."""
    listing = _archive(obj, quiet=as_json).reports(sort)
    if as_json:
        click.echo(json.dumps(listing.to_json(), ensure_ascii=False))
        return
    _echo_reports(listing)


def _echo_reports(listing: ReportList) -> None:
    click.echo(f"{'date':<10}  {'articles':>8}  {'passages':>8}  {'bytes':>11}  report")
    for r in listing.reports:
        units = f"  ({', '.join(r.units)})" if r.units else ""
        click.echo(f"{r.date or 'undated':<10}  {r.articles:>8,}  {r.passages:>8,}  "
                   f"{r.size:>11,}  {r.source}{units}")
    count = len(listing.reports)
    years = [f"{year} {n}" for year, n in listing.years.items()]
    if listing.undated:
        years.append(f"undated {listing.undated}")
    click.echo(f"{count:,} report{'s' if count != 1 else ''}, {listing.articles:,} articles, "
               f"{listing.passages:,} passages." + (f" By year: {', '.join(years)}." if years else ""))


@cli.command()
@click.argument("article_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.pass_obj
@_fail_nicely
def show(obj: Context, article_id: str, as_json: bool) -> None:
    """Print a whole article, its passages in order (ARTICLE_ID as `search --json` gives it)."""
    article = _archive(obj, quiet=as_json).article(article_id)
    if as_json:
        click.echo(json.dumps(article.to_json(), ensure_ascii=False))
        return
    _echo_article(article)


def _echo_article(article: ArticleView) -> None:
    click.echo(click.style(article.title or "(untitled)", bold=True))
    click.echo(" · ".join(x for x in (article.source, article.date, article.byline) if x))
    for p in article.passages:
        where = f"¶{p.paragraph}" + (f" p.{p.page}" if p.page is not None else "")
        kind = f" [{p.kind}]" if p.kind != "body" else ""
        click.echo("")
        click.echo(f"{where}{kind} {p.text}")


@cli.command(cls=QueryCommand)
@click.argument("query", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="csv",
              show_default=True,
              help="csv: UTF-8 with a BOM, for spreadsheets; jsonl: one JSON object a line.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (replaced in one step) instead of standard output.")
@click.option("--source", help="Only passages from this corpus file.")
@click.option("--from", "date_from", metavar="YYYY-MM-DD", help="Only reports dated on or after.")
@click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Only reports dated on or before.")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance",
              show_default=True, help="Order of the rows.")
@click.pass_obj
@_fail_nicely
def export(obj: Context, query: tuple[str, ...], fmt: str, output: Path | None,
           source: str | None, date_from: str | None, date_to: str | None, sort: str) -> None:
    """Write every hit of a query (the words as `search` takes them) as rows:
    source, title, section, date, paragraph, page, text."""
    if output is not None and not output.parent.is_dir():
        # Refused, as cp and sort -o do, instead of making the folder.
        raise BadUsage(f"cannot write {output}: no folder {output.parent}")
    rows = _archive(obj, quiet=output is None).export(
        " ".join(query), source=source, date_from=date_from, date_to=date_to, sort=sort)
    data = export_bytes(rows, fmt)
    if output is None:
        stdout = click.get_binary_stream("stdout")
        stdout.write(data)
        stdout.flush()
        return
    try:
        write_atomically(output, data, make_folders=False)
    except OSError as error:
        raise click.ClickException(f"cannot write {output}: {error.strerror or error}") from None
    click.echo(f"{len(rows):,} hit{'s' if len(rows) != 1 else ''} written to {output}")


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="FILE_OR_FOLDER...",
                type=click.Path(path_type=Path))
@_verbose_option
@click.pass_obj
@_fail_nicely
def add(obj: Context, paths: tuple[Path, ...], verbose: bool) -> None:
    """Copy report files, or every report under folders, into the corpus and index them.

    A folder's reports keep their place under the folder's name (hidden
    files skipped); two files of one add with the same name are both kept,
    the later under a numbered name. Files that cannot be read are refused
    with the reason; the others still go in, and the exit status is 1 if
    any was refused.

    On a terminal, a progress bar on stderr shows the files read, the MB/s
    and the time left to read them, then that the index is being written;
    refused and skipped files are still named, and a line
    of counts ends. With --verbose, or when the output is not a terminal (a
    pipe, a file, a CI log), a line per file instead.
    """
    each = per_file_lines(verbose)
    store = obj.store()
    with _progress() as callbacks:
        store.ensure_current(**callbacks)
    plan = plan_add(list(paths), store.corpus)
    for folder in plan.in_corpus:
        click.echo(f"refused {folder}: it is the corpus folder or inside it; "
                   "`zhsearch index` indexes what is there", err=True)
    for folder in plan.empty_folders:
        click.echo(f"refused {folder}: no report files in it", err=True)
    if plan.not_reports:
        shown = ", ".join(str(p) for p in plan.not_reports[:3])
        more = f" and {len(plan.not_reports) - 3} more" if len(plan.not_reports) > 3 else ""
        count = len(plan.not_reports)
        click.echo(f"skipped {count} file{'s' if count != 1 else ''} not in a report format: "
                   f"{shown}{more}", err=True)
    for addition in plan.renamed:
        click.echo(f"kept both: {addition.other} is {addition.wanted}, "
                   f"so {addition.path} goes in as {addition.name}")
    with _progress(verb="Adding") as callbacks:
        report = store.add_files([(a.name, a.path) for a in plan.additions], **callbacks)
    _echo_outcomes(report, each)
    if report.refused or plan.in_corpus or plan.empty_folders:
        raise SystemExit(1)


@cli.command()
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
@_fail_nicely
def remove(obj: Context, names: tuple[str, ...]) -> None:
    """Remove report files (names relative to the corpus) and their passages."""
    store = obj.store()
    missing = []
    for name in map(text_arg, names):
        try:
            passages = store.remove(name)
        except NotInCorpus:
            missing.append(name)
            continue
        click.echo(f"removed {name} ({passages} passages)")
    if missing:
        raise click.ClickException(
            f"not in the corpus: {', '.join(missing)}. Hint: `zhsearch stats --files` lists the files.")


@cli.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.pass_obj
@_fail_nicely
def versions(obj: Context, name: str, as_json: bool) -> None:
    """List the kept earlier versions of a report (an upload, add or remove keeps them)."""
    import datetime

    name = text_arg(name)
    kept = obj.store().list_versions(name)
    if as_json:
        click.echo(json.dumps([{"version": v.number, "bytes": v.size, "saved": v.saved}
                               for v in kept]))
        return
    if not kept:
        click.echo(f"No earlier versions of {name} are kept.")
        return
    for version in kept:
        saved = datetime.datetime.fromtimestamp(version.saved).strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"{version.number}\t{saved}\t{version.size} bytes")
    click.echo(f"Restore one with `zhsearch restore {name} --version N`.")


@cli.command()
@click.argument("name")
@click.option("--version", "number", type=click.IntRange(min=1), default=None,
              help="Which version (see `zhsearch versions NAME`); the latest by default.")
@click.pass_obj
@_fail_nicely
def restore(obj: Context, name: str, number: int | None) -> None:
    """Bring back an earlier version of a report and index it; the content it
    replaces is kept as a version in turn."""
    report = obj.store().restore(text_arg(name), number)
    _echo_outcomes(report)
    if report.refused:
        raise SystemExit(1)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option("--files", "list_files", is_flag=True, help="Also list the indexed files.")
@click.pass_obj
@_fail_nicely
def stats(obj: Context, as_json: bool, list_files: bool) -> None:
    """Show what the index holds."""
    store = obj.store()
    if not store.exists():
        raise click.ClickException(
            f"no index in {obj.index}. Hint: run `zhsearch index` to build it.")
    data = integrity.stats(store)
    if list_files:
        data["sources"] = store.sources()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    click.echo(f"corpus:   {data['corpus']}")
    click.echo(f"index:    {data['index']} ({data['index_bytes'] / 1e6:.1f} MB)")
    click.echo(f"files:    {data['files']}")
    click.echo(f"articles: {data['articles']}")
    click.echo(f"passages: {data['passages']}")
    click.echo(f"words:    {data['terms']}")
    if data["first_date"]:
        click.echo(f"dates:    {data['first_date']} to {data['last_date']}")
    for source in data.get("sources", []):
        click.echo(f"  {source}")
    try:
        stale = store.is_stale()
    except NoCorpus as error:  # what the index holds is still worth showing
        click.echo(f"{error}. Hint: {error.hint}.", err=True)
        return
    if stale:
        click.echo("The corpus changed since it was indexed: run `zhsearch index`.")


@cli.command()
@click.pass_obj
@_fail_nicely
def check(obj: Context) -> None:
    """Verify that the index matches the corpus; exit 1 and say how to repair if not."""
    store = obj.store()
    if not store.exists():
        raise click.ClickException(f"no index in {obj.index}. Hint: run `zhsearch index` to build it.")
    # Deep: every posting list and stored record read, so a damaged segment is found.
    problems = integrity.check(store, deep=True)
    for problem in problems:
        click.echo(f"{problem.source}: {problem.description}")
    if problems:
        raise click.ClickException(
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found. "
            "Hint: run `zhsearch index` to repair the index.")
    click.echo(f"OK: {len(store.sources())} files, each indexed once with its current content.")


@cli.command()
@click.option("--host", default=SETTINGS["host"].default, show_default=True,
              help=SETTINGS["host"].help)
@click.option("--port", type=click.IntRange(1, 65535), default=SETTINGS["port"].default,
              show_default=True, help=SETTINGS["port"].help)
@click.option("--threads", type=click.IntRange(1, 64), default=SETTINGS["threads"].default,
              show_default=True, help=SETTINGS["threads"].help)
@click.option("--verbose", is_flag=True,
              help="When the index is brought up to date first, a line per file on stderr.")
@click.pass_obj
@_fail_nicely
def serve(obj: Context, host: str, port: int, threads: int, verbose: bool) -> None:
    """Serve the web search page (a process per core), building the index first when needed.

    That build shows a progress bar on stderr when it is a terminal;
    --verbose names every file it read, on stderr.
    """
    from web.server import serve as serve_web

    store = obj.store(one_command=False)  # long-lived: one whole dictionary, built once
    with _progress() as callbacks:
        update = store.ensure_current(**callbacks)
    if verbose and update is not None:
        _echo_outcomes(update, err=True)
    click.echo(f"zhsearch: serving {obj.corpus} on http://{host}:{port}/ (Ctrl+C stops)", err=True)
    serve_web(store, host=host, port=port, threads=threads)


def main() -> None:
    cli(prog_name="zhsearch")


if __name__ == "__main__":
    main()
