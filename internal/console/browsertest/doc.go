// Package browsertest drives the web console in headless Chromium (chromedp) against a
// real `hookd dev` (issue 13). It has only tests.
package browsertest
