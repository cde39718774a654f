import sys

from synthetic.mis_feed.server import main

sys.exit(main())
