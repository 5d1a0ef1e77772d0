-- Reserved for issue 9 (013_retention); filled in by its owner.
SELECT 1;
