"""The parts of the HTML attendance reports (serving/html_report.py): the figures read from
the publication, and the charts with their text alternatives and tables."""
