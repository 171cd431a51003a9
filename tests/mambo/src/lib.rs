// SPDX-License-Identifier: Apache-2.0
//! Mambo/systemsim boot tests. Mambo is not packaged for Debian, so nothing runs here yet;
//! the board is recognised (`boards::MAMBO`) but its console callthrus are not written.
