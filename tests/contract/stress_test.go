package contract

import (
	"os"
	"strconv"
	"testing"

	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
)

// stressCopies is how many copies of the universal suite the stress run
// starts in parallel. Watermill's default is 10; on the 2-core CI runner
// under -race ten copies of both suites do not fit the package's 5-minute
// budget, three in short mode do. STRESS_TEST_COUNT overrides it for a
// deeper run by hand.
const stressCopies = 3

// runStress runs Watermill's TestPubSubStressTest: the whole suite several
// times at once against one broker (its TestReconnect skips, as in the
// plain run; see testReconnect). ForceShort only scales message and
// subscriber counts down; it claims nothing about the transport.
func runStress(t *testing.T, features tests.Features, c tests.PubSubConstructor, g tests.ConsumerGroupPubSubConstructor) {
	if os.Getenv("STRESS_TEST_COUNT") == "" {
		t.Setenv("STRESS_TEST_COUNT", strconv.Itoa(stressCopies))
	}
	features.ForceShort = true
	tests.TestPubSubStressTest(t, features, c, g)
}
