#!/usr/bin/perl
# Sisimai's verdict on each bounce file named on the command line, as JSON lines:
# { file, recipient, reason, softbounce (1 soft, 0 hard, -1 not a bounce), deliverystatus }.
use strict;
use warnings;
use Sisimai;
use JSON::PP;
my $json = JSON::PP->new->canonical;
for my $file (@ARGV) {
    my $found = Sisimai->make($file) || [];
    for my $d (@$found) {
        print $json->encode({ file => $file, recipient => lc($d->recipient->address), reason => $d->reason,
            softbounce => 0 + $d->softbounce, deliverystatus => $d->deliverystatus // "" }), "\n";
    }
    print $json->encode({ file => $file, none => JSON::PP::true }), "\n" unless @$found;
}
