"""Marking schemes in and out of Excel: one definition of both formats.

Two layouts are read and written:

- the WorldSkills CIS "Marking Scheme Import" sheet, exactly as chief judges
  already keep it (``read_cis`` / ``write_cis``), and
- our own ``aspects`` sheet of docs/formats.md (``read_aspects`` /
  ``write_aspects_sheet``), with optional extra columns for everything CIS
  carries, plus an optional ``wsos_sections`` sheet for the WSOS weights.

Both readers produce the same plain structure, ``SchemeData``; validation
(``validate_scheme``) and writing to the database (``apply_scheme``) work on
that structure only, so the two formats cannot drift apart. Every problem is
collected (never stop at the first) as a ``SchemeProblem`` with sheet, Excel
row, column key and letter, and a translatable English message; Chinese and
English renderings are both available.

Aspect codes. CIS aspects have no code of their own, but marks, marking groups
and the event workbook's ``marks`` sheet need one. A CIS aspect gets its
sub-criterion ID, a dot and its running number within the sub-criterion,
counting M and J aspects together in sheet order: the aspects of A1 are
``A1.1``, ``A1.2`` … Re-importing the same workbook gives the same codes, so
it updates in place; inserting an aspect in the middle of a sub-criterion
renumbers the ones after it (harmless before marking starts, and the scheme
cannot change once there are marks). Our ``aspects`` sheet states codes
explicitly; an empty ``aspect_code`` cell gets the same generated code.

Arithmetic on marks is Decimal only. Excel stores numbers as binary floats;
``Decimal(repr(float))`` recovers the number as it was typed (0.25, 0.1), which
is exact for the two-decimal marks the models can hold.
"""
