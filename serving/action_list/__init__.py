"""The attendance hub's action list as an attendance officer reads it: why each pupil is
listed, in words (reasons.py), and the register day's export of the list and of each school's
education away from school (export.py)."""
