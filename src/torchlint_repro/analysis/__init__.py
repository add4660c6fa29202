"""The shared analysis: name resolution, the project index, the flow tracker."""
