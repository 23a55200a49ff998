"""The ``zhsearch`` command: parses arguments and calls the library."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, TypeVar

import click

from indexer.adding import plan_add
from indexer.errors import IndexCorrupt, NoCorpus, NotInCorpus, QueryError, ZhsearchError
from indexer.messages import Catalogue
from indexer.search import SearchService
from indexer.settings import SETTINGS
from indexer import integrity
from indexer.archive import EXPORT_FORMATS, REPORT_SORTS, Archive, export_bytes
from indexer.corpus import write_atomically
from indexer.document import Kind
from indexer.highlight import Snippet
from indexer.readers import quoted_limits
from indexer.records import ArticleView, ReportList, SearchResult, Status, SyncReport
from indexer.request import Fold, Group, Scope, SearchRequest, Sort
from indexer.store import Store


# The messages of the user's language, chosen once at start (gettext's `_`).
_ = Catalogue.for_user()


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


class Refusal(click.ClickException):
    """One line on stderr, ``Error: …`` in the user's language, exit status 1."""

    def show(self, file=None) -> None:
        click.echo(_.text("error", message=self.format_message()), file=file, err=True)


class BadUsage(Refusal):
    """A mistake in the command line itself: one line, exit status 2 (as click's usage errors)."""

    exit_code = 2


class _HelpFormatter(click.HelpFormatter):
    """click's --help with its headings (Usage, Options, Commands) in the user's language."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, _.text("Usage: ") if prefix is None else prefix)

    def section(self, name: str):
        return super().section(_.text(name) if name in ("Options", "Commands") else name)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{_.text('heading', heading=heading)}\n")


class _Context(click.Context):
    formatter_class = _HelpFormatter


def _usage_error(error: click.UsageError, command: str) -> BadUsage:
    return BadUsage(_.text("see_help", message=error.format_message(), command=command))


def _localised_help_option(command: click.Command, ctx: click.Context) -> click.Option | None:
    option = click.Command.get_help_option(command, ctx)
    if option is not None:
        option.help = _.help("--help")
    return option


class StrictCommand(click.Command):
    """A command whose usage errors are one line with exit status 2, and
    whose ``--corpus``/``--index`` may also follow the command name."""

    context_class = _Context
    get_help_option = _localised_help_option

    def get_short_help_str(self, limit: int = 45) -> str:
        # Chinese has no spaces for click to cut the help at.
        return (self.name and _.short_help(self.name)) or super().get_short_help_str(limit)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise _usage_error(error, f"zhsearch {ctx.info_name}") from None


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
        func = click.option(f"--{name}", f"{name}_dir", default=None, expose_value=True,
                            type=click.Path(file_okay=False, path_type=Path),
                            help=_.help(f"--{name}") + _.help("after the command"))(func)
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


def _refused(error: ZhsearchError) -> click.ClickException:
    """A library error as one line: a request that cannot run as given is a
    usage error (status 2), and so is a --corpus that names no folder."""
    kind = BadUsage if isinstance(error, (QueryError, NoCorpus)) else Refusal
    return kind(_.refusal(error, **quoted_limits()))


def request_options(command: str, *, arrange: bool):
    """The options of a :class:`SearchRequest`, declared once for ``search``
    and ``export`` (sqlite-utils' ``output_options`` habit): ``--source``,
    ``--from``, ``--to``, ``--sort``, and with ``arrange`` ``--group``,
    ``--fold`` and ``--in``. The command receives ``request`` in their place
    (with its QUERY words, and its ``--page`` and ``--limit`` when it has
    them), checked before any index is opened."""
    import functools

    options = [
        click.option("--source", help=_.help(command, "--source")),
        click.option("--from", "date_from", metavar="YYYY-MM-DD", help=_.help(command, "--from")),
        click.option("--to", "date_to", metavar="YYYY-MM-DD", help=_.help(command, "--to")),
        click.option("--sort", type=click.Choice([s.value for s in Sort]), default=Sort.RELEVANCE.value,
                     show_default=True, help=_.help(command, "--sort")),
    ]
    if arrange:
        options += [
            click.option("--group", type=click.Choice([Group.ARTICLE.value]), default=None,
                         help=_.help(command, "--group")),
            click.option("--fold", type=click.Choice([Fold.SAME.value]), default=None,
                         help=_.help(command, "--fold")),
            click.option("--in", "scope", type=click.Choice([s.value for s in Scope]),
                         default=Scope.ALL.value, show_default=True, help=_.help(command, "--in")),
        ]

    def decorator(func):
        @functools.wraps(func)
        def wrapper(*args, query: tuple[str, ...], source: str | None, date_from: str | None,
                    date_to: str | None, sort: str, **kwargs):
            fields = {name: kwargs.pop(name) for name in ("page", "limit", "group", "fold", "scope")
                      if name in kwargs}
            try:
                request = SearchRequest.of(text_arg(" ".join(query)),
                                           source=text_arg(source) if source else source,
                                           date_from=date_from, date_to=date_to, sort=sort, **fields)
            except ZhsearchError as error:
                raise _refused(error) from None
            return func(*args, request=request, **kwargs)

        for option in reversed(options):  # click lists the last one applied first
            wrapper = option(wrapper)
        return wrapper
    return decorator


def _fail_nicely(func):
    """Every command's body: passed the :class:`Context` (``click.pass_obj``),
    with the library's errors turned into one-line messages with a hint, in
    one place, and ``--corpus``/``--index`` given after the command name applied."""
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
            raise _refused(error) from None
        except Exception as error:  # noqa: BLE001
            from indexer.store import from_whoosh

            if not from_whoosh(error) or obj is None:
                raise
            # Whoosh failed reading a damaged segment file.
            raise _refused(IndexCorrupt.damaged(obj.index, error)) from None
    return click.pass_obj(_corpus_options(wrapper))


# Per file: the files read, the bytes, the rate and the time left to read
# them, as "Indexing  31%|███▏      | 112/365 files, 2.80M/8.90MB, 556kB/s,
# 00:11 left to read".
_BAR_FORMAT = _.text("bar")
# Once every file is read the commit writes what the bulk writer still holds,
# which no callback reports: 14 of `index`'s 17 s on the 2022 subset, 24 of
# `add`'s 29 s, 160 of 182 s at the whole folder (1,693 files, 43 MB, on a
# loaded machine). Said, with a clock, and no time left the bar cannot know.
_WRITING_FORMAT = _.text("bar_writing")


def _progress_bar(total_bytes: int, files: int, verb: str):
    """A tqdm bar on stderr over ``total_bytes``; its postfix is the files done.

    Drawn only on a terminal (``disable=None``); plain characters when
    ``TERM=dumb``. It has no colour, so ``NO_COLOR`` has nothing to remove.
    """
    from tqdm import tqdm

    class FilesBar(tqdm):
        @property
        def format_dict(self) -> dict:
            fields = super().format_dict
            fields["files"] = fields.pop("postfix", None) or _.text("files_done", done=0, files=files)
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
def _progress(quiet: bool = False, verb: str = "indexing") -> Iterator[dict]:
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
            bar = _progress_bar(total, count, _.text(verb))

    def progress(name: str, size: int) -> None:
        nonlocal done
        if bar is not None:
            done += 1
            bar.set_postfix_str(_.text("files_done", done=done, files=files), refresh=False)
            bar.update(size)
            if done == files and not bar.disable:
                elapsed = bar.format_interval(bar.format_dict["elapsed"])
                bar.set_postfix_str(_.text("files_read", done=done, files=files, elapsed=elapsed),
                                    refresh=False)
                bar.bar_format = _WRITING_FORMAT
                bar.refresh()
                if not ticking:  # a rebuild's second pass: the clock already ticks
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
        if outcome.status == Status.REFUSED:
            reason = _.reason(outcome.code, outcome.reason, **quoted_limits())
            click.echo(_.text("refused", name=outcome.name, reason=reason), err=True)
        elif not each:
            continue
        elif outcome.passages:
            click.echo(_.text("file_passages", status=_.text(f"status {outcome.status}"),
                              name=outcome.name, passages=outcome.passages), err=err)
        else:
            click.echo(_.text("file_line", status=_.text(f"status {outcome.status}"),
                              name=outcome.name), err=err)
    if not each and report.outcomes:
        click.echo(outcome_counts(report))


def outcome_counts(report: SyncReport) -> str:
    """One line for what happened to the files of ``report``.

    >>> from indexer.records import FileOutcome
    >>> outcome_counts(SyncReport([FileOutcome("a", Status.ADDED, 3),
    ...                            FileOutcome("b", Status.ADDED, 2),
    ...                            FileOutcome("c", Status.REFUSED)]))
    '3 files: 2 added, 1 refused; 5 passages written.'
    """
    counts = [_.text("count_status", count=report.count(s), status=_.text(f"status {s}"))
              for s in Status if report.count(s)]
    files = len(report.outcomes)
    written = sum(o.passages for o in report.outcomes if o.status in (Status.ADDED, Status.UPDATED))
    return _.text("counts", files=_.text("count_files", count=files, s=_plural(files)),
                  statuses=_.text("list_separator").join(counts),
                  written=_.text("count_written", count=written, s=_plural(written)) if written
                  else _.text("sentence_end"))


def _plural(count: int) -> str:
    """English's plural ending for ``count`` things (Chinese has none)."""
    return "" if count == 1 else "s"


class _Record(Protocol):
    def to_json(self) -> dict: ...


R = TypeVar("R", bound=_Record)


def _emit(record: R, as_json: bool, render: Callable[[R], None]) -> None:
    """``record`` as one JSON object (the contract of ``--json``), or
    rendered for a person."""
    if as_json:
        click.echo(json.dumps(record.to_json(), ensure_ascii=False))
    else:
        render(record)


class StrictGroup(click.Group):
    command_class = StrictCommand
    context_class = _Context
    get_help_option = _localised_help_option

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise _usage_error(error, "zhsearch") from None

    def resolve_command(self, ctx: click.Context, args: list[str]):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as error:
            raise _usage_error(error, "zhsearch") from None


def _verbose_option(command: str):
    return click.option("--verbose", is_flag=True, help=_.help(command, "--verbose"))


def _setting_option(name: str, dest: str | None = None):
    setting = SETTINGS[name]
    return click.option(
        f"--{name}", *([dest] if dest else []),
        type=click.Path(file_okay=False, path_type=Path), default=setting.default,
        show_default=True, envvar=setting.env, help=_.text("env_help", help=_.help(f"--{name}"), env=setting.env))


@click.group(cls=StrictGroup, context_settings={"help_option_names": ["-h", "--help"]},
             help=_.help("zhsearch"))
@_setting_option("corpus")
@_setting_option("index", "index_dir")
@click.version_option(package_name="zhsearch", help=_.help("--version"))
@click.pass_context
def cli(ctx: click.Context, corpus: Path, index_dir: Path) -> None:
    ctx.obj = Context(corpus, index_dir)


@cli.command("index", help=_.help("index"))
@click.option("--rebuild", is_flag=True, help=_.help("index", "--rebuild"))
@click.option("--allow-removals", is_flag=True,
              help=_.help("index", "--allow-removals"))
@_verbose_option("index")
@_fail_nicely
def index_command(obj: Context, rebuild: bool, allow_removals: bool, verbose: bool) -> None:
    each = per_file_lines(verbose)
    store = obj.store()
    with _progress() as callbacks:
        if rebuild:
            report, aside = store.rebuild(**callbacks, allow_removals=allow_removals)
            if aside:
                click.echo(_.text("moved_aside", folder=aside), err=True)
        else:
            report = store.sync(**callbacks, allow_removals=allow_removals)
    _echo_outcomes(report, each)
    problems = integrity.check(store)
    if problems:
        for problem in problems:
            click.echo(_.text("repairing", source=problem.source, problem=problem.description),
                       err=True)
        _echo_outcomes(integrity.repair(store, problems), each)
    stats = integrity.stats(store)
    click.echo(_.text("indexed", files=stats["files"], passages=stats["passages"]))
    if report.refused:
        raise SystemExit(1)


@cli.command(cls=QueryCommand, help=_.help("search"))
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", "-n", type=click.IntRange(min=0), default=10, show_default=True,
              help=_.help("search", "--limit"))
@click.option("--page", "-p", type=click.IntRange(min=1), default=1, show_default=True,
              help=_.help("search", "--page"))
@click.option("--json", "as_json", is_flag=True, help=_.help("search", "--json"))
@request_options("search", arrange=True)
@click.option("--verbose", is_flag=True, help=_.help("search", "--verbose"))
@_fail_nicely
def search(obj: Context, request: SearchRequest, as_json: bool, verbose: bool) -> None:
    store = _up_to_date(obj.store(), quiet=as_json, verbose=verbose)
    result = SearchService(store, long_lived=False).search(request)
    _emit(result, as_json, _echo_results)


def _terminal_text(snippet: Snippet) -> str:
    """The snippet with its matched characters in bold red (plain when not a terminal)."""
    return "".join(click.style(text, fg="red", bold=True) if marked else text
                   for text, marked in snippet.pieces())


def _echo_results(result: SearchResult) -> None:
    if result.query_truncated:
        from indexer.query import MAX_QUERY_CHARS, MAX_TERMS

        click.echo(_.text("query_truncated", chars=MAX_QUERY_CHARS, terms=MAX_TERMS), err=True)
    if not result.total:
        click.echo(_.text("no_match", query=result.query))
        if result.suggestion:
            click.echo(_.text("did_you_mean", suggestion=result.suggestion))
        return
    hits, first = result.hits, result.first
    counted = _.text("counted articles" if result.grouped else "counted stories" if result.folded
                     else "counted passages")
    click.echo(_.text("results" if hits else "results_none", first=first,
                      last=first + len(hits) - 1, total=result.total, counted=counted,
                      query=result.query, took=result.took_ms))
    for number, hit in enumerate(hits, start=first):
        heading = hit.title + (f" · {hit.section}" if hit.section else "")
        click.echo("")
        click.echo(click.style(f"[{number}] {heading}", bold=True))
        where = [hit.source, f"¶{hit.paragraph}"] + ([hit.date] if hit.date else [])
        if hit.more:
            where.append(_.text("more_here", count=hit.more))
        if hit.same:
            where.append(_.text("same_story", count=hit.same, s=_plural(hit.same)))
        click.echo("    " + " · ".join(where))
        click.echo("    " + _terminal_text(hit.snippet))


@cli.command(cls=QueryCommand, help=_.help("explain"))
@click.argument("passage_id")
@click.argument("query", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help=_.help("explain", "--json"))
@_fail_nicely
def explain(obj: Context, passage_id: str, query: tuple[str, ...], as_json: bool) -> None:
    store = _up_to_date(obj.store(), quiet=as_json)
    explanation = SearchService(store, long_lived=False).explain(text_arg(" ".join(query)), passage_id)
    if as_json:
        click.echo(json.dumps(explanation.to_json(), ensure_ascii=False))
        return
    click.echo(_.text("query_words", words=" | ".join(explanation.query_words)))
    for term in explanation.terms:
        via = f" ({term.via})" if term.via else ""
        held = f": {' | '.join(term.matched)}" if term.matched else ""
        click.echo(f"{term.term}: {term.rule}{via}{held}")
    click.echo(_.text("passage_words", words=" | ".join(explanation.passage_words)))


def _up_to_date(store: Store, quiet: bool = False, verbose: bool = False) -> Store:
    """``store`` with its index brought in line with the corpus first, as every
    command that reads the index does: a bar unless ``quiet``, and with
    ``verbose`` a line per file on stderr."""
    with _progress(quiet=quiet) as callbacks:
        update = store.ensure_current(**callbacks)
    if verbose and update is not None:
        _echo_outcomes(update, err=True)
    return store


def _archive(obj: Context, quiet: bool = False) -> Archive:
    """The archive over an index brought up to date first, as ``search`` does."""
    store = _up_to_date(obj.store(), quiet=quiet)
    return Archive(SearchService(store, long_lived=False))


@cli.command(help=_.help("reports"))
@click.option("--json", "as_json", is_flag=True, help=_.help("reports", "--json"))
@click.option("--sort", type=click.Choice(REPORT_SORTS), default="date", show_default=True,
              help=_.help("reports", "--sort"))
@_fail_nicely
def reports(obj: Context, as_json: bool, sort: str) -> None:
    _emit(_archive(obj, quiet=as_json).reports(sort), as_json, _echo_reports)


def _echo_reports(listing: ReportList) -> None:
    click.echo(_.text("reports_header", date=_.text("header date"),
                      articles=_.text("header articles"), passages=_.text("header passages"),
                      size=_.text("header bytes")))
    undated = _.text("undated")
    for r in listing.reports:
        units = f"  ({', '.join(r.units)})" if r.units else ""
        click.echo(f"{r.date or undated:<10}  {r.articles:>8,}  {r.passages:>8,}  "
                   f"{r.size:>11,}  {r.source}{units}")
    count = len(listing.reports)
    years = [f"{year} {n}" for year, n in listing.years.items()]
    if listing.undated:
        years.append(f"{undated} {listing.undated}")
    click.echo(_.text("reports_summary", count=count, s=_plural(count), articles=listing.articles,
                      passages=listing.passages)
               + (_.text("by_year", years=_.text("list_separator").join(years)) if years else ""))


@cli.command(help=_.help("show"))
@click.argument("article_id")
@click.option("--json", "as_json", is_flag=True, help=_.help("show", "--json"))
@_fail_nicely
def show(obj: Context, article_id: str, as_json: bool) -> None:
    _emit(_archive(obj, quiet=as_json).article(article_id), as_json, _echo_article)


def _echo_article(article: ArticleView) -> None:
    click.echo(click.style(article.title or _.text("untitled"), bold=True))
    click.echo(" · ".join(x for x in (article.source, article.date, article.byline) if x))
    for p in article.passages:
        where = f"¶{p.paragraph}" + (f" p.{p.page}" if p.page is not None else "")
        kind = f" [{p.kind}]" if p.kind != Kind.BODY else ""
        click.echo("")
        click.echo(f"{where}{kind} {p.text}")


@cli.command(cls=QueryCommand, help=_.help("export"))
@click.argument("query", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="csv",
              show_default=True,
              help=_.help("export", "--format"))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help=_.help("export", "--output"))
@request_options("export", arrange=False)
@_fail_nicely
def export(obj: Context, request: SearchRequest, fmt: str, output: Path | None) -> None:
    if output is not None and not output.parent.is_dir():
        # Refused, as cp and sort -o do, instead of making the folder.
        raise BadUsage(_.text("no_output_folder", path=output, folder=output.parent))
    rows = _archive(obj, quiet=output is None).export(request)
    data = export_bytes(rows, fmt)
    if output is None:
        stdout = click.get_binary_stream("stdout")
        stdout.write(data)
        stdout.flush()
        return
    try:
        write_atomically(output, data, make_folders=False)
    except OSError as error:
        raise Refusal(_.text("cannot_write_output", path=output,
                             reason=error.strerror or error)) from None
    click.echo(_.text("rows_written", count=len(rows), s=_plural(len(rows)), path=output))


@cli.command(help=_.help("add"))
@click.argument("paths", nargs=-1, required=True, metavar="FILE_OR_FOLDER...",
                type=click.Path(path_type=Path))
@_verbose_option("add")
@_fail_nicely
def add(obj: Context, paths: tuple[Path, ...], verbose: bool) -> None:
    each = per_file_lines(verbose)
    store = _up_to_date(obj.store())
    plan = plan_add(list(paths), store.corpus)
    for folder in plan.in_corpus:
        click.echo(_.text("in_corpus_folder", folder=folder), err=True)
    for folder in plan.empty_folders:
        click.echo(_.text("empty_folder", folder=folder), err=True)
    if plan.not_reports:
        shown = ", ".join(str(p) for p in plan.not_reports[:3])
        count = len(plan.not_reports)
        more = _.text("skipped_more", count=count - 3) if count > 3 else ""
        click.echo(_.text("skipped", count=count, s=_plural(count), shown=shown, more=more), err=True)
    for addition in plan.renamed:
        click.echo(_.text("kept_both", other=addition.other, wanted=addition.wanted,
                          path=addition.path, name=addition.name))
    with _progress(verb="adding") as callbacks:
        report = store.add_files([(a.name, a.path) for a in plan.additions], **callbacks)
    _echo_outcomes(report, each)
    if report.refused or plan.in_corpus or plan.empty_folders:
        raise SystemExit(1)


@cli.command(help=_.help("remove"))
@click.argument("names", nargs=-1, required=True)
@_fail_nicely
def remove(obj: Context, names: tuple[str, ...]) -> None:
    store = obj.store()
    missing = []
    for name in map(text_arg, names):
        try:
            passages = store.remove(name)
        except NotInCorpus:
            missing.append(name)
            continue
        click.echo(_.text("removed_file", name=name, passages=passages))
    if missing:
        raise NotInCorpus(", ".join(missing))


@cli.command(help=_.help("versions"))
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help=_.help("versions", "--json"))
@_fail_nicely
def versions(obj: Context, name: str, as_json: bool) -> None:
    import datetime

    name = text_arg(name)
    kept = obj.store().list_versions(name)
    if as_json:
        click.echo(json.dumps([{"version": v.number, "bytes": v.size, "saved": v.saved}
                               for v in kept]))
        return
    if not kept:
        click.echo(_.text("no_versions", name=name))
        return
    for version in kept:
        saved = datetime.datetime.fromtimestamp(version.saved).strftime("%Y-%m-%d %H:%M:%S")
        click.echo(_.text("version_line", number=version.number, saved=saved, size=version.size))
    click.echo(_.text("restore_one", name=name))


@cli.command(help=_.help("restore"))
@click.argument("name")
@click.option("--version", "number", type=click.IntRange(min=1), default=None,
              help=_.help("restore", "--version"))
@_fail_nicely
def restore(obj: Context, name: str, number: int | None) -> None:
    report = obj.store().restore(text_arg(name), number)
    _echo_outcomes(report)
    if report.refused:
        raise SystemExit(1)


@cli.command(help=_.help("stats"))
@click.option("--json", "as_json", is_flag=True, help=_.help("stats", "--json"))
@click.option("--files", "list_files", is_flag=True, help=_.help("stats", "--files"))
@_fail_nicely
def stats(obj: Context, as_json: bool, list_files: bool) -> None:
    store = obj.store()
    if not store.exists():
        raise IndexCorrupt(f"no index in {obj.index}", code="no_index")
    data = integrity.stats(store)
    if list_files:
        data["sources"] = store.sources()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    click.echo(_.text("stats corpus", value=data["corpus"]))
    click.echo(_.text("stats index", value=data["index"], mb=data["index_bytes"] / 1e6))
    for name, key in (("files", "files"), ("articles", "articles"), ("passages", "passages"),
                      ("words", "terms")):
        click.echo(_.text(f"stats {name}", value=data[key]))
    if data["first_date"]:
        click.echo(_.text("stats dates", first=data["first_date"], last=data["last_date"]))
    for source in data.get("sources", []):
        click.echo(f"  {source}")
    try:
        stale = store.is_stale()
    except NoCorpus as error:  # what the index holds is still worth showing
        click.echo(_.refusal(error, **quoted_limits()), err=True)
        return
    if stale:
        click.echo(_.text("corpus_changed"))


@cli.command(help=_.help("check"))
@_fail_nicely
def check(obj: Context) -> None:
    store = obj.store()
    if not store.exists():
        raise IndexCorrupt(f"no index in {obj.index}", code="no_index")
    # Deep: every posting list and stored record read, so a damaged segment is found.
    problems = integrity.check(store, deep=True)
    for problem in problems:
        click.echo(f"{problem.source}: {problem.description}")
    if problems:
        raise Refusal(_.text("problems_found", count=len(problems), s=_plural(len(problems))))
    click.echo(_.text("check_ok", count=len(store.sources())))


@cli.command(help=_.help("serve"))
@click.option("--host", default=SETTINGS["host"].default, show_default=True,
              help=_.help("serve", "--host"))
@click.option("--port", type=click.IntRange(1, 65535), default=SETTINGS["port"].default,
              show_default=True, help=_.help("serve", "--port"))
@click.option("--threads", type=click.IntRange(1, 64), default=SETTINGS["threads"].default,
              show_default=True, help=_.help("serve", "--threads"))
@click.option("--verbose", is_flag=True, help=_.help("serve", "--verbose"))
@_fail_nicely
def serve(obj: Context, host: str, port: int, threads: int, verbose: bool) -> None:
    from importlib.metadata import entry_points

    # The web registers its server under an entry point (setup.cfg), the
    # plugin habit of Datasette and sqlite-utils: the engine package imports
    # no module of the web, and only `serve` reads the entry points (60 ms
    # on a loaded machine, once, before the index update).
    servers = entry_points(group="zhsearch.servers", name="web")
    if not servers:
        raise click.ClickException(_.text("no_web_server"))
    serve_web = next(iter(servers)).load()

    # long-lived: one whole dictionary, built once
    store = _up_to_date(obj.store(one_command=False), verbose=verbose)
    click.echo(_.text("serving", corpus=obj.corpus, host=host, port=port), err=True)
    serve_web(store, host=host, port=port, threads=threads)


def main() -> None:
    cli(prog_name="zhsearch")


if __name__ == "__main__":
    main()
