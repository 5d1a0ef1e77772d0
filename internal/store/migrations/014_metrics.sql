-- Reserved for issue 9 (014_metrics); filled in by its owner.
SELECT 1;
