"""Drawing with QtGui (and QtCharts) where Qt is the best tool: PDF reports, charts, images."""
