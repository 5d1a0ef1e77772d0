SELECT 1; -- reserved: console (issue 13): portal tickets and console sessions
