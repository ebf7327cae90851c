# The code's version, which the verifier changes to see a redeploy reach the app, its worker and
# its periodic job.
VERSION = "v1"
