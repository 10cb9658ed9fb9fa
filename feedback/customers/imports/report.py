"""What an import found and did, in a form both the CLI and the admin page print."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_LISTED_PROBLEMS = 100


@dataclass(frozen=True)
class Problem:
    line: int | None  # physical line in the file, header = 1; None for the file as a whole
    column: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass
class ImportReport:
    kind: str
    dry_run: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)  # the first MAX_LISTED_PROBLEMS
    problem_count: int = 0
    encoding: str | None = None
    delimiter: str | None = None
    ignored_columns: list[str] = field(default_factory=list)
    # How a problem's place is named: "line" in a file, "row" (0-based) in an API request.
    line_word: str = "line"
    max_listed: int = MAX_LISTED_PROBLEMS

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add_problem(self, line: int | None, column: str | None, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < self.max_listed:
            self.problems.append(Problem(line, column, message))

    def place(self, line: int) -> str:
        """'line 7' for a file, 'row 7' for the records of an API request."""
        return f"{self.line_word} {line}"

    def problem_lines(self) -> list[str]:
        lines = [str(problem) for problem in self.problems]
        hidden = self.problem_count - len(self.problems)
        if hidden:
            lines.append(f"... and {hidden} more problem{'s' if hidden != 1 else ''}")
        return lines

    def summary(self) -> str:
        if not self.ok:
            return (
                f"{self.kind}: {self.problem_count} problem{'s' if self.problem_count != 1 else ''}"
                f" in {self.rows} row{'s' if self.rows != 1 else ''}; nothing was saved."
            )
        verb = "would be" if self.dry_run else "were"
        return (
            f"{self.kind}: {self.rows} row{'s' if self.rows != 1 else ''} read; "
            f"{self.created} {verb} created, {self.updated} {verb} updated, "
            f"{self.unchanged} unchanged."
            + (" Dry run: nothing was saved." if self.dry_run else "")
        )
